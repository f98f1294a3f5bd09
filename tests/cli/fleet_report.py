"""The default simulated fleet as `flamebot triage` reports it (links elided as <link>)."""

FLEET_BLOCKS = """\

  [!!!] payment-service  →  CPU-BOUND
       CPU: 82%  Heap: 45%  GC: 0.012s/s  Threads: 24  Lat: 340ms  Err: 0.0%
       Hotspot: com.example.PaymentVerticle.sha256: 34.2% of CPU self-time (5.1% before, +29.1 pp)
       Action:  optimise com.example.PaymentVerticle.sha256 (algorithm, caching, async offload)
       Profiles: CPU: PaymentVerticle.sha256 (34.2%) | Alloc: BigDecimal.<init> (12.1%) | Mutex: (none)
       Flame graph: <link>

  [ ! ] order-service  →  LOCK-BOUND
       CPU: 15%  Heap: 38%  GC: 0.004s/s  Threads: 80  Lat: 800ms  Err: 1.0%
       Hotspot: com.example.OrderVerticle.processOrders: 71.3% of Mutex self-time (41.2% before, +30.1 pp)
       Action:  narrow the lock in com.example.OrderVerticle.processOrders, use concurrent structures
       Profiles: CPU: AbstractChannelHandlerContext.write (26.0%) | Alloc: JsonObject.<init> (30.0%) | Mutex: OrderVerticle.processOrders (71.3%)
       Flame graph: <link>

  [ . ] account-service  →  HEALTHY
       CPU: 7%  Heap: 33%  GC: 0.003s/s  Threads: 20  Lat: 22ms  Err: 0.0%

  [ . ] api-gateway  →  HEALTHY
       CPU: 18%  Heap: 41%  GC: 0.005s/s  Threads: 28  Lat: 35ms  Err: 0.0%

  [ . ] fraud-service  →  HEALTHY
       CPU: 12%  Heap: 36%  GC: 0.004s/s  Threads: 22  Lat: 48ms  Err: 0.0%

  [ . ] loan-service  →  HEALTHY
       CPU: 9%  Heap: 39%  GC: 0.004s/s  Threads: 21  Lat: 64ms  Err: 0.0%

  [ . ] notification-service  →  HEALTHY
       CPU: 5%  Heap: 31%  GC: 0.002s/s  Threads: 18  Lat: 90ms  Err: 0.0%

  [ . ] stream-service  →  HEALTHY
       CPU: 11%  Heap: 44%  GC: 0.006s/s  Threads: 26  Lat: 27ms  Err: 0.0%
"""  # noqa: E501
