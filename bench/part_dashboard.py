"""Dashboard pages at 1M findings: bench/dashboard.py, its figures handed back as JSON."""

from __future__ import annotations

from common import parser, write


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--findings", type=int, default=1_000_000)
    args = p.parse_args()
    import dashboard

    write(args.out, dashboard.main(["--runs", str(args.runs), "--findings", str(args.findings)]))


if __name__ == "__main__":
    main()
