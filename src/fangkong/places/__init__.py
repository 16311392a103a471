"""Places: venues, markets, gatherings, enterprises, schools, cold chain, pharmacies."""
