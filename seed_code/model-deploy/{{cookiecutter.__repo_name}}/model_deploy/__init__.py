"""Deploy the newest approved model package of a SageMaker project to staging and prod."""
