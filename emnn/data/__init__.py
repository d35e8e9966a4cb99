"""The data: datasets by name (scikit-learn's bundled copies, CSV files, the teacher
network), paired train/test splits and standardization, and the originating study's
split of Iris (iris_seed_split.json)."""
