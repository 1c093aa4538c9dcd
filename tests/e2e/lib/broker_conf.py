"""Broker settings every e2e broker gets, as testing_process::kHostDiskConf (tests/integration/process_util.h).

The e2e brokers share the build machine's disk, which may already be 85-90 % used (df's Use%) before a test
starts. Left at the defaults a broker would then delete its oldest segments regardless of age
(cleanFileForciblyEnable) and refuse every write (diskSpaceWarningLevelRatio), as designed; disk pressure has its
own tests (RetentionTest). HOST_DISK is the map for a Cluster's spec.brokers.config, HOST_DISK_CONF the lines for
a broker.conf.
"""

HOST_DISK = {"cleanFileForciblyEnable": "false", "diskSpaceWarningLevelRatio": "0.999"}
HOST_DISK_CONF = "".join(f"{k}={v}\n" for k, v in HOST_DISK.items())
