"""The offline labeler: an ImageNet classifier run with onnxruntime, mapped onto Rekognition's vocabulary."""
