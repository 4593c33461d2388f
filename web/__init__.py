"""`rezonans serve`: the web workspace (pages in Russian and a JSON API) over the library functions."""
