"""torchlite.nn.init: parameter initialisation (being filled in; see the training-stack issue)."""
