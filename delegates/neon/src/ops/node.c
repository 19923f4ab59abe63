/* A claimed node as the delegate keeps it (op.h's el_node): its op, tensor indices and a fresh state with the
 * builtin options copied. The partitions hold one per node; shape inference makes short-lived ones. */
#include <stdlib.h>

#include "op.h"

int el_node_init(el_node* n, const TfLiteNode* node, int code, int index) {
  n->def = el_op_find(code);
  n->state = NULL;
  if (n->def == NULL) return 0;
  n->code = code;
  n->node_index = index;
  n->n_inputs = node->inputs->size < EL_MAX_INPUTS ? node->inputs->size : EL_MAX_INPUTS;
  for (int i = 0; i < n->n_inputs; i++) n->inputs[i] = node->inputs->data[i];
  n->n_outputs = node->outputs->size < EL_MAX_OUTPUTS ? node->outputs->size : EL_MAX_OUTPUTS;
  for (int i = 0; i < n->n_outputs; i++) n->outputs[i] = node->outputs->data[i];
  n->output = n->outputs[0];
  n->state = calloc(1, n->def->state_size);
  if (n->state == NULL) return 0;
  if (n->def->init != NULL) n->def->init(n->state, node);
  return 1;
}

void el_node_free(el_node* n) {
  if (n->state != NULL && n->def != NULL && n->def->release != NULL) n->def->release(n->state);
  free(n->state);
  n->state = NULL;
}
