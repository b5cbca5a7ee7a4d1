# The notebooks here are fixtures of the browser tests (opened in JupyterLab by tests/browser)
# and run headless by tests/viz; nbval does not collect them.
collect_ignore_glob = ["*.ipynb"]
