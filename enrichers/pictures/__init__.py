"""Flame-graph pictures: an icicle layout computed once, drawn by two small backends.

`picture.Picture` says what to draw; `layout.layout` turns it into rectangles, texts and a
legend (pure, tested by numbers); `png.render_png` (Pillow) and `svg.render_svg` (written
directly) draw that layout. `capture.flamegraph_data` keeps, at enrichment time, what the
picture of an alert needs, so a notifier can draw it without asking Pyroscope again.
The modules are imported one by one: the enrichment needs no Pillow.
"""
