#!/bin/sh
# valgrind.sh - run a program under valgrind's memcheck, for
# `make check-valgrind` (the top-level Makefile.am writes the wrappers
# that call it: test-suite/valgrind/run for the unit tests, and
# test-suite/valgrind/cuttle, which ptc starts as if it were cuttle).
#
#	VALGRIND=... VG_LOGDIR=... VG_SUPP=... valgrind.sh PROGRAM [ARG]...
#
# exec keeps the PID: ptc finds cuttle's listening socket among the open
# files of the process it started, and valgrind runs the program inside
# that same process.  Reports go to VG_LOGDIR/vg.PID.log, never to the
# program's own output, which tests compare; any error, leaks included,
# makes the program exit 99, and the logs' ERROR SUMMARY lines are
# checked once more after the run for processes whose exit status nobody
# looked at.  --vgdb=no: no FIFOs in $TMPDIR, which ptc removes.
exec "${VALGRIND:-valgrind}" --tool=memcheck --vgdb=no \
    --error-exitcode=99 --leak-check=full \
    --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible \
    --suppressions="${VG_SUPP:?}" --gen-suppressions=all \
    --log-file="${VG_LOGDIR:?}/vg.%p.log" "$@"
