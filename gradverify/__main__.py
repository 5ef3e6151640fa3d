import sys

from .entry import main, missing_dependencies

#: the commands that run derivations in workers: their forkserver starts before the imports below
_WORKERS = ("report", "mutants", "list", "steps")

if len(sys.argv) > 1 and sys.argv[1] in _WORKERS and not {"--in-process", "-h", "--help"} & set(sys.argv) \
        and not missing_dependencies():
    from .isolation import start_early

    start_early()

sys.exit(main())
