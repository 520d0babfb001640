"""Input conversion, image files, the training-data interface and mini-batch loading."""

from skdeepcluster.data._arrays import input_kind, is_path_list, to_image_tensor
from skdeepcluster.data._folder import IMAGE_EXTENSIONS, ImageFolder, load_image_folder
from skdeepcluster.data._loader import ShardedBatchSampler, TensorBatchLoader, shard_index
from skdeepcluster.data._training_data import (
    DEVICE_DATA_FRACTION,
    InMemoryData,
    StreamedData,
    TrainingData,
    as_training_data,
    data_placement,
    place_training_tensor,
)

__all__ = [
    "DEVICE_DATA_FRACTION",
    "IMAGE_EXTENSIONS",
    "ImageFolder",
    "InMemoryData",
    "ShardedBatchSampler",
    "StreamedData",
    "TensorBatchLoader",
    "TrainingData",
    "as_training_data",
    "data_placement",
    "input_kind",
    "is_path_list",
    "load_image_folder",
    "place_training_tensor",
    "shard_index",
    "to_image_tensor",
]
