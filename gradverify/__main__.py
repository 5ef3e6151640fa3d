import sys

#: the commands that run derivations in workers: their forkserver starts before the imports below
_WORKERS = ("report", "mutants", "list", "steps")

if len(sys.argv) > 1 and sys.argv[1] in _WORKERS and not {"--in-process", "-h", "--help"} & set(sys.argv):
    from .isolation import start_early

    start_early()

from .cli import main  # noqa: E402

sys.exit(main())
