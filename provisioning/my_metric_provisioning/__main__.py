import sys

from my_metric_provisioning.cli import main

sys.exit(main())
