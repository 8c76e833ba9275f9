"""`python -m contestday …`: the same commands as `contestday …`."""

from contestday.cli import main

if __name__ == "__main__":
    main()
