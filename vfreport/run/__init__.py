"""Running every (arm, seed): executors, papermill notebooks, the training job."""
