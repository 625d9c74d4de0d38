"""The training domain: turning feature series into scaled, split sample windows."""
