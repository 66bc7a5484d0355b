"""Settings (schools, nurseries, childminders) and the people who book for them."""
