"""flamebot's knowledge: health metrics, profiles, the bottleneck classifier and links."""
