from tsforge.cli.main import main

main()
