from olist.cli import main

raise SystemExit(main())
