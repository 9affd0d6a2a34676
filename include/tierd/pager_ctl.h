/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pager_ctl.h — the channel between libtierpager (in a workload) and tierd.
 *
 * The pager is the client. It connects to tierd's control socket
 * (TIERD_SOCKET, else TIERD_CTL_SOCKET of ctl.h) and sends one JSON line,
 * like any control request:
 *
 *   {"cmd": "pager_hello", "pid": N, "version": 1}
 *       -> {"ok": true} and the connection stays open, or {"error": "..."}
 *          and it is closed. tierd checks with SO_PEERCRED that N is the
 *          peer's own pid (a process speaks only for itself).
 *
 * After the answer both sides speak plain text lines (no JSON on the
 * pager side: it has no allocation-free JSON writer and needs none).
 * Pager -> tierd, every TIERD_PAGER_REPORT_MS:
 *
 *   stats managed=P resident=P pool=P faults=N fetches=N prefetches=N
 *         evictions=N pool_writes=N fetch_p50_ns=NS fetch_p99_ns=NS
 *         hints=N cmd_evicted=P cmd_fetched=P
 *       (P: pages; counters are totals since the pager started; the
 *       latencies are over the fetches since the previous report, 0 when
 *       there were none)
 *   pool_begin
 *   pool ADDR NPAGES [ADDR NPAGES]...     (hex address, decimal count;
 *                                          as many lines as needed)
 *   pool_end
 *       the runs of managed pages whose only copy is in the pool; tierd
 *       replaces its picture of the process's pool pages at pool_end
 *       (at most TIERD_PAGER_MAX_POOL_RUNS runs: the rest are left out)
 *
 * tierd -> pager, whenever its plan says so:
 *
 *   evict ADDR LEN      take the resident managed pages of [ADDR, ADDR+LEN)
 *                       to the pool (pages being written are skipped)
 *   fetch ADDR LEN [NODE]
 *                       bring the pool pages of [ADDR, ADDR+LEN) back, onto
 *                       NUMA node NODE when given (preferred: another node
 *                       if it is full), else where the pager's own fetches
 *                       go; tierd names the tier its plan put them in
 *   hint PAGES_PER_S    arm hint faults on that many random resident
 *                       pages per second (0: off; policy heat.hint_pages_per_s)
 *
 * (hex ADDR with 0x, LEN in bytes.) Commands are advice: a page that
 * changed state meanwhile is skipped, and tierd sees the outcome in the
 * next report. If tierd goes away the pager keeps running on its own
 * (local limit, if any) and redials every TIERD_PAGER_REDIAL_MS; tierd
 * forgets a pager whose connection closes.
 */
#ifndef TIERD_PAGER_CTL_H
#define TIERD_PAGER_CTL_H

#ifdef __BPF__
#error "pager_ctl.h is user-space only"
#endif

#define TIERD_PAGER_PROTO_VERSION 1
#define TIERD_PAGER_REPORT_MS 1000
#define TIERD_PAGER_REDIAL_MS 2000
/* Longest line either side sends (tierd's request buffer is 8 KiB). */
#define TIERD_PAGER_MAX_LINE 4096
#define TIERD_PAGER_MAX_POOL_RUNS 65536

#endif /* TIERD_PAGER_CTL_H */
