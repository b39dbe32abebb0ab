from wikismith.cli import main

main()
