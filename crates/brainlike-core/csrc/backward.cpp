// brainlike's one entry into LibTorch's C++ API beyond what tch binds (built only with the
// `tch` feature, by build.rs): run LibTorch's autograd engine from a layer's output *seeded
// with its gradient* to given inputs, i.e. `torch.autograd.grad(output, inputs, grad)`. tch 0.22's `Tensor::run_backward` seeds every root with ones, so without
// this each layer run by LibTorch (src/models/layers/libtorch.rs) needed a scalar root
// `<output, grad>` and two extra full-size passes (the dot product and its gradient).
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/variable.h>

#include <cstdlib>
#include <cstring>
#include <exception>

extern "C" {

// The gradients of `inputs[j]` (ninputs, each requiring a gradient) given the gradient `grad`
// of `output`: writes a new tensor (owned by the caller, freed by tch's `at_free`) per input to
// `results[j]`. Returns nullptr, or a message from `malloc` for `brainlike_free_error`.
char *brainlike_grad(const at::Tensor *output, const at::Tensor *grad, at::Tensor *const *inputs,
                     int ninputs, at::Tensor **results) {
  try {
    torch::autograd::edge_list roots{torch::autograd::impl::gradient_edge(*output)};
    torch::autograd::variable_list grad_outputs{*grad};
    torch::autograd::edge_list wanted;
    for (int j = 0; j < ninputs; ++j) {
      if (!inputs[j]->requires_grad()) {
        return strdup("brainlike_grad: an input does not require a gradient");
      }
      wanted.push_back(torch::autograd::impl::gradient_edge(*inputs[j]));
    }
    auto got = torch::autograd::Engine::get_default_engine().execute(
        roots, grad_outputs, /*keep_graph=*/false, /*create_graph=*/false,
        /*accumulate_grad=*/false, wanted);
    for (int j = 0; j < ninputs; ++j) {
      results[j] = new at::Tensor(got[j]);
    }
    return nullptr;
  } catch (const std::exception &e) {
    return strdup(e.what());
  }
}

void brainlike_free_error(char *message) { free(message); }
}
