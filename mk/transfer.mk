# Your data, in and out (core/transfer.c): libyaml reads the front matter of
# Markdown folders back in an import.
PKGS += yaml-0.1
