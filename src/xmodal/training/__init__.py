"""Building and training the default model's heads. Imports the library; the library never imports this."""
