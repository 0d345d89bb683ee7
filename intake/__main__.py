"""Allows ``python -m intake``."""

if __name__ == "__main__":  # a parsing worker imports this module too (as __mp_main__): no CLI
    from .cli import main

    raise SystemExit(main())
