from appfn.cli import main

main()
