"""servebox components: config, cluster targets, the serving platform and the model."""
