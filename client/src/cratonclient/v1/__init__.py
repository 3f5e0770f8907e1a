"""Version 1 of the Craton API: :class:`cratonclient.v1.client.Client` and its managers."""
