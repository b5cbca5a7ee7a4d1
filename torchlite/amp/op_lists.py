"""Which ops autocast casts, per device type: PyTorch's lists (aten/src/ATen/autocast_mode.cpp).

Policies: ``lower`` runs in the autocast dtype, ``fp32`` in float32, ``fp32_opt_dtype`` in
float32 unless the call passes ``dtype=``, ``promote`` in the widest floating dtype of the inputs;
``banned`` ops raise PyTorch's error.
Names are torchlite's public functions (top level, ``nn.functional``, ``linalg.``). A few ops that
PyTorch decomposes into a listed op (einsum, tensordot into bmm/mm on CPU) are listed here
because torchlite computes them as one primitive.
"""
LOWER, FP32, FP32_OPT_DTYPE, PROMOTE = "lower", "fp32", "fp32_opt_dtype", "promote"
BANNED = "banned"  # raises: unsafe in float16 (binary_cross_entropy on CUDA)

_CONVS = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
          "conv_transpose3d")
_LOSSES = ("mse_loss", "cross_entropy", "nll_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "kl_div", "binary_cross_entropy_with_logits", "margin_ranking_loss",
           "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss",
           "multilabel_margin_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "poisson_nll_loss")

CPU = {
    **dict.fromkeys(_CONVS + ("bmm", "mm", "linalg.vecdot", "baddbmm", "addmm", "addbmm",
                              "linear", "matmul", "prelu", "scaled_dot_product_attention",
                              "einsum", "tensordot"), LOWER),
    **dict.fromkeys(_LOSSES + ("binary_cross_entropy", "avg_pool3d", "max_pool3d",
                               "adaptive_avg_pool3d", "prod", "quantile", "nanquantile",
                               "cdist", "trace", "cholesky", "inverse", "pinverse",
                               "linalg.cholesky", "linalg.inv", "linalg.pinv", "linalg.solve",
                               "linalg.svd", "linalg.svdvals", "linalg.qr", "linalg.eigh",
                               "linalg.eigvalsh", "linalg.det", "linalg.slogdet",
                               "linalg.matrix_rank", "linalg.solve_triangular"), FP32),
    **dict.fromkeys(("cat", "stack", "index_copy"), PROMOTE),
}

CUDA = {
    **dict.fromkeys(_CONVS + ("matmul", "addbmm", "addmm", "addmv", "addr", "baddbmm", "bmm",
                              "chain_matmul", "linalg.multi_dot", "linear", "mm", "mv",
                              "prelu", "scaled_dot_product_attention", "einsum"), LOWER),
    **dict.fromkeys(_LOSSES + ("acos", "asin", "cosh", "erfinv", "exp", "expm1", "log",
                               "log10", "log2", "log1p", "reciprocal", "rsqrt", "sinh", "tan",
                               "pow", "softplus", "layer_norm", "group_norm", "norm",
                               "cosine_similarity", "cdist", "pdist", "dist", "renorm",
                               "logsumexp", "normalize", "softmin"), FP32),
    **dict.fromkeys(("prod", "softmax", "log_softmax", "cumprod", "cumsum", "sum",
                     "linalg.vector_norm", "linalg.matrix_norm"), FP32_OPT_DTYPE),
    **dict.fromkeys(("addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot",
                     "tensordot", "index_put", "scatter_add", "cat", "stack"), PROMOTE),
    "binary_cross_entropy": BANNED,
}

POLICIES = {"cpu": CPU, "cuda": CUDA}
