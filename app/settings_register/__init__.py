"""The register of settings (schools, nurseries, childminders) and the people who book for them."""
