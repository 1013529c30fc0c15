pytest_plugins = ["cwh.plugin"]
