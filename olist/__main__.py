from olist.cli import entry

entry()
