"""A search query in the deck's words: common ML abbreviations spelled out and chat shorthand undone."""

from __future__ import annotations

import re

# Standard abbreviations of the field (not of one deck): "DL vs ML", "backprop step by step", "whats a CNN".
ABBREVIATIONS = {
    "ai": "artificial intelligence", "dl": "deep learning", "ml": "machine learning",
    "rl": "reinforcement learning", "nlp": "natural language processing",
    "nn": "neural network", "nns": "neural networks", "ann": "artificial neural network",
    "anns": "artificial neural networks", "dnn": "deep neural network", "dnns": "deep neural networks",
    "mlp": "multilayer perceptron", "mlps": "multilayer perceptrons",
    "cnn": "convolutional neural network", "cnns": "convolutional neural networks",
    "convnet": "convolutional neural network", "convnets": "convolutional neural networks",
    "rnn": "recurrent neural network", "rnns": "recurrent neural networks",
    "lstm": "long short-term memory", "lstms": "long short-term memory networks",
    "gru": "gated recurrent unit", "grus": "gated recurrent units",
    "gan": "generative adversarial network", "gans": "generative adversarial networks",
    "vae": "variational autoencoder", "vaes": "variational autoencoders",
    "rbm": "restricted Boltzmann machine", "rbms": "restricted Boltzmann machines",
    "sgd": "stochastic gradient descent", "gd": "gradient descent", "lr": "learning rate",
    "backprop": "backpropagation", "hyperparam": "hyperparameter", "hyperparams": "hyperparameters",
    "batchnorm": "batch normalization", "layernorm": "layer normalization",
    "pca": "principal component analysis", "mse": "mean squared error",
    "svm": "support vector machine", "svms": "support vector machines", "knn": "k-nearest neighbours",
    "grad": "gradient", "grads": "gradients", "hparam": "hyperparameter", "hparams": "hyperparameters",
    "param": "parameter", "params": "parameters", "init": "initialization", "val": "validation",
    "acc": "accuracy", "attn": "attention", "conv": "convolution", "convs": "convolutions", "seq": "sequence",
    "seqs": "sequences", "bn": "batch normalization", "img": "image", "imgs": "images",
}
SHORTHAND = {
    "u": "you", "ur": "your", "whats": "what is", "wats": "what is", "wat": "what", "pls": "please",
    "plz": "please", "thru": "through", "w/": "with", "w/o": "without", "b/w": "between", "vs": "versus",
    "abt": "about", "bc": "because", "cuz": "because", "ppl": "people", "diff": "difference", "b4": "before",
    "gud": "good", "tho": "though", "ya": "you", "yr": "your", "btw": "by the way",
}
_TOKEN = re.compile(r"\bb4\b|\b(?:w/o|w/|b/w)|[A-Za-z][A-Za-z'-]*")


def normalise_query(text: str) -> str:
    """The query with abbreviations written out ("DL" -> "deep learning") and shorthand undone ("u" -> "you")."""

    def spelled(match: re.Match[str]) -> str:
        word = match.group(0)
        low = word.lower()
        return SHORTHAND.get(low) or ABBREVIATIONS.get(low) or word

    return _TOKEN.sub(spelled, text)
