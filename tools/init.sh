#!/bin/sh
# The Linux server's start-up script (make run): run by busybox sh as the
# first process.
echo "init: busybox sh on the Linux server, an L4 task; $(uname -sr)"
echo "init: $(ls /bin | wc -l) commands in /bin"
