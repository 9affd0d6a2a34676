/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctl.h — tierd's control socket protocol (tierctl is its client).
 *
 * A Unix stream socket, default TIERD_CTL_SOCKET, mode 0600; tierd also
 * checks the peer's uid with SO_PEERCRED (root only). The client sends ONE
 * request: a JSON object on one line. tierd answers with one JSON object on
 * one line and closes the connection — except for "events", which answers
 * {"ok": true} and then streams one JSON object per line per record until
 * the client closes. Every failure is {"error": "sentence"}.
 *
 *   {"cmd": "attach", "path": "/sys/fs/cgroup/x"}
 *       -> {"ok": true, "path": "...", "id": N}
 *       optional "dram", "cxl": sizes ("96M", "25%", "max"), "pool": bool —
 *       with any of them the cgroup is managed by the tiering loop
 *   {"cmd": "detach", "path": "/sys/fs/cgroup/x"}
 *       -> {"ok": true, "path": "...", "id": N}
 *   {"cmd": "status"}
 *       -> {"ok": true, "cgroups": [{"path", "id", "faults", "fault_rate",
 *            "faults_sampled_out", "records_dropped", "promotions",
 *            "demotions", "migrate_same_tier", "migrate_ctx_succeeded",
 *            "migrate_failed"}...],
 *           "global": {"records_received", "fault_records_received",
 *            "records_dropped",
 *            "migrate_unattributed", "sample_every", "uptime_s", "dry_run",
 *            "event_readers"},
 *           "programs": [{"name", "attached", "reason"}...],
 *           "nodes": {"ranks": [{"node", "rank"}...], "how"},
 *           "notes": ["sentence"...],
 *           "tiering": {"policy_file", "policy_loads", "policy": {...},
 *            "tiers": {"dram": [N...], "cxl": [N...], "how"}, "sampler",
 *            "sampler_why", "damon_running", "damon_targets", "dry_run",
 *            "managed"}}
 *       and, in a managed cgroup's entry, "tiering": {"budget", "bytes":
 *       {"dram", "cxl", "pool", "not_present", ...}, "tracked_pages",
 *       "heat_hist", "promoted_pages", "promote_pages_per_s",
 *       "kernel_promote_pages_per_s", ..., "sampler"} (controller/tiering.c)
 *   {"cmd": "events", "cgroup_id": N}   (cgroup_id optional: all)
 *       -> {"ok": true} then records:
 *          {"type": "fault", "ts_ns", "cpu", "cgroup_id", "pid", "tid",
 *           "address", "ip", "error_code"}
 *          {"type": "migrate", "ts_ns", "cpu", "cgroup_id", "nr_pages",
 *           "direction": "promote"|"demote"|"same_tier", "src_nid", "dst_nid"}
 *          {"type": "damon", "ts_ns", "cpu", "target_id", "start", "end",
 *           "nr_accesses", "age"}
 *          {"type": "lost", "records": N}   (this client was too slow)
 */
#ifndef TIERD_CTL_H
#define TIERD_CTL_H

#ifdef __BPF__
#error "ctl.h is user-space only"
#endif

#define TIERD_CTL_SOCKET "/run/tierd/tierd.sock"
/* Longest request line tierd reads. */
#define TIERD_CTL_MAX_REQUEST 8192

#endif /* TIERD_CTL_H */
