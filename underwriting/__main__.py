from underwriting.cli.main import main

raise SystemExit(main())
