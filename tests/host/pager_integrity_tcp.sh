#!/bin/bash
# pager_integrity_tcp.sh — libtierpager over the tcp pool: several threads
# write versioned patterns to memory several times the local limit while
# eviction runs, every page verified; malloc'ed memory; fork (the child
# verifies its snapshot while the parent writes); mremap/munmap/madvise;
# resident pages never above the limit.
# timeout: 420
. "$(dirname "$0")/../lib.sh"
need_root
. "$(dirname "$0")/pager_common.inc"
pager_integrity tcp
