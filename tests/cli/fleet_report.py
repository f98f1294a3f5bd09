"""The default simulated fleet as `flamebot triage` reports it (links elided as <link>)."""

FLEET_BLOCKS = """\

  [!!!] payment-service  →  CPU-BOUND
       CPU: 0.82 cores  Heap: 45%  GC: 0.012s/s  Threads: 24  Lat: 340ms  Err: 0.0%
       Hotspot: com.example.PaymentVerticle.sha256: 34.2% of CPU self-time (5.1% before, +29.1 pp)
       Action:  optimise com.example.PaymentVerticle.sha256 (algorithm, caching, async offload)
       Profiles: CPU: PaymentVerticle.sha256 (34.2%) | Alloc: BigDecimal.<init> (12.1%) | Mutex: (none)
       Flame graph: <link>

  [ ! ] order-service  →  LOCK-BOUND
       CPU: 0.15 cores  Heap: 38%  GC: 0.004s/s  Threads: 80  Lat: 800ms  Err: 1.0%
       Hotspot: com.example.OrderVerticle.processOrders: 71.3% of Mutex self-time (41.2% before, +30.1 pp)
       Action:  narrow the lock in com.example.OrderVerticle.processOrders, use concurrent structures
       Profiles: CPU: AbstractChannelHandlerContext.write (26.0%) | Alloc: JsonObject.<init> (30.0%) | Mutex: OrderVerticle.processOrders (71.3%)
       Flame graph: <link>
"""  # noqa: E501

# The six healthy services: (name, CPU in % of a core, heap %, GC s/s, threads, latency ms).
HEALTHY = [
    ("account-service", 7, 33, 0.003, 20, 22),
    ("api-gateway", 18, 41, 0.005, 28, 35),
    ("fraud-service", 12, 36, 0.004, 22, 48),
    ("loan-service", 9, 39, 0.004, 21, 64),
    ("notification-service", 5, 31, 0.002, 18, 90),
    ("stream-service", 11, 44, 0.006, 26, 27),
]
FLEET_BLOCKS += "".join(
    f"\n  [ . ] {name}  →  HEALTHY\n       CPU: {cpu / 100:.2f} cores  Heap: {heap}%"
    f"  GC: {gc:.3f}s/s"
    f"  Threads: {threads}  Lat: {latency}ms  Err: 0.0%\n"
    for name, cpu, heap, gc, threads, latency in HEALTHY
)
