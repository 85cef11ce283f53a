"""`nnlab ae corrupt-demo` (cnn-ae-cae P5.2): a corruption process C(x̃|x) on a 2-D curve, and a denoising
autoencoder that undoes it."""
