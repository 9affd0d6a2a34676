// SPDX-License-Identifier: GPL-2.0
/*
 * idlepoll.c — asks the kernel for polling idle while faults come in.
 *
 * Why: a thread that touches a page in the pool sleeps in the kernel until
 * a handler thread on another CPU installs the page and wakes it. An idle
 * CPU normally halts (HLT; in a virtual machine that is an exit to the
 * hypervisor), and waking it costs an inter-processor interrupt and the
 * hypervisor's reschedule of the vCPU: measured on these hosts, a random
 * fault served from the shm pool took 33-37 us, of which ~25 us were that
 * wake-up. A CPU-latency request of 0 (the PM QoS interface
 * /dev/cpu_dma_latency, held open) makes cpuidle pick its polling state:
 * the idle loop watches its need-resched flag and a wake-up needs no
 * interrupt at all (random fault 16-18 us, p50 7-8 us instead of 29-35).
 * Measured alternatives that did not help: SCHED_IDLE spinner threads per
 * CPU (a running spinner still needs an interrupt to be preempted).
 *
 * The request is system-wide (every CPU polls instead of halting), so it is
 * asked for (`tierctl run --idle-poll`, TIERD_IDLE_POLL=1), not a default:
 * a library inside a workload should not change the whole machine's power
 * and CPU use unasked; and in a guest under QEMU's TCG (no hardware
 * virtualisation) polling idle vCPUs were seen to stall the guest. It is
 * held only while faults come in: set by the handler that sees the first
 * fault after a quiet spell, withdrawn by the maps scanner's tick once no
 * fault came for IDLE_POLL_HOLD_NS. Opening the device needs root (or a
 * udev rule); without it the pager works as before and says so at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "pager_sys.h"

#define IDLE_POLL_HOLD_NS (50ull * 1000 * 1000)
#define PM_QOS_NO_CONSTRAINT 2000000000 /* the kernel's default, in us */

static int qos_fd = -1;
static _Atomic bool polling;
static pthread_mutex_t qos_lock = PTHREAD_MUTEX_INITIALIZER;

static void qos_write(int32_t us)
{
	if (write(qos_fd, &us, sizeof(us)) != sizeof(us)) {
		/* a failed update leaves the previous request: harmless either way */
	}
}

int tp_idle_poll_open(void)
{
	qos_fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
	if (qos_fd < 0)
		return -errno;
	qos_write(PM_QOS_NO_CONSTRAINT); /* opening alone already requests 0 */
	return 0;
}

/* A fault arrived (handler threads): no allocation, a syscall once a burst. */
void tp_idle_poll_fault(void)
{
	if (qos_fd < 0 || atomic_load(&polling))
		return;
	pthread_mutex_lock(&qos_lock);
	if (qos_fd >= 0 && !atomic_load(&polling)) {
		qos_write(0);
		atomic_store(&polling, true);
	}
	pthread_mutex_unlock(&qos_lock);
}

/* About every 20 ms (the scanner): withdraw the request after a quiet spell. */
void tp_idle_poll_tick(uint64_t now_ns, uint64_t last_fault_ns)
{
	if (qos_fd < 0 || !atomic_load(&polling) || now_ns - last_fault_ns < IDLE_POLL_HOLD_NS)
		return;
	pthread_mutex_lock(&qos_lock);
	if (qos_fd >= 0 && atomic_load(&polling)) {
		qos_write(PM_QOS_NO_CONSTRAINT);
		atomic_store(&polling, false);
	}
	pthread_mutex_unlock(&qos_lock);
}

bool tp_idle_poll_active(void)
{
	return qos_fd >= 0;
}

/* A fork()ed child: its copy would keep the request; no lock (one thread). */
void tp_idle_poll_forget(void)
{
	if (qos_fd >= 0)
		close(qos_fd);
	qos_fd = -1;
	atomic_store(&polling, false);
}

/* Shutdown: under the lock, so no handler writes to a reused descriptor. */
void tp_idle_poll_close(void)
{
	pthread_mutex_lock(&qos_lock);
	tp_idle_poll_forget();
	pthread_mutex_unlock(&qos_lock);
}
