"""What the tools' entry points share: a known error ends the tool with its message and exit
status 2, without a traceback."""
import sys


def run_tool(name, main, errors):
    """Runs main(argv) and exits with its status; an exception of a class in `errors` prints
    '<name>: <message>' to stderr and exits 2."""
    try:
        sys.exit(main(sys.argv[1:]))
    except errors as e:
        sys.stderr.write("\n%s: %s\n" % (name, e))
        sys.exit(2)
