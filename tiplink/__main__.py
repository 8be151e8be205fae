from tiplink.cli import main

raise SystemExit(main())
