"""The catalog: publish the seeds as versioned Service Catalog products (hub and spokes)
and as Studio S3-route templates."""
