"""Keep the normal ``pytest`` run out of this directory.

The conformance suite is irctest (an external checkout), driven by
``run_irctest.sh``; the modules here are loaded by irctest, not collected by us.
"""

collect_ignore_glob = ["*.py"]
