"""Dashboard pages at 1M findings: bench/dashboard.py, its figures handed back as JSON."""

from __future__ import annotations

from common import parser, write


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--findings", type=int, default=1_000_000)
    p.add_argument("--scale", default="1", help="bench/dashboard.py's --scale")
    p.add_argument("--deep-page", default="500", help="bench/dashboard.py's --deep-page")
    args = p.parse_args()
    import dashboard

    argv = ["--runs", str(args.runs), "--findings", str(args.findings), "--scale", args.scale]
    write(args.out, dashboard.main([*argv, "--deep-page", args.deep_page]))


if __name__ == "__main__":
    main()
