package openapidoc

// SharedAnswersKey names the base document's list of answers that the API's
// middleware gives before any handler runs (an unusable Authorization
// header, a body too large, of another type or shape). Merge adds each to
// every operation of the kind it names that does not list the status
// itself, so the merged document states them per operation:
//
//	x-shared-answers:
//	  every-operation: { "401": { $ref: ... } }
//	  with-body:       { "413": ..., "415": ..., "422": ... }
//	  with-parameters: { "422": ... }
const SharedAnswersKey = "x-shared-answers"

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// addSharedAnswers applies the base document's shared answers to every
// operation of doc.
func addSharedAnswers(doc map[string]any) {
	shared, _ := doc[SharedAnswersKey].(map[string]any)
	if len(shared) == 0 {
		return
	}
	every, _ := shared["every-operation"].(map[string]any)
	withBody, _ := shared["with-body"].(map[string]any)
	withParams, _ := shared["with-parameters"].(map[string]any)
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		pathItem, _ := item.(map[string]any)
		pathParams, _ := pathItem["parameters"].([]any)
		for _, m := range methods {
			op, ok := pathItem[m].(map[string]any)
			if !ok {
				continue
			}
			responses, _ := op["responses"].(map[string]any)
			if responses == nil {
				responses = map[string]any{}
				op["responses"] = responses
			}
			addMissing(responses, every)
			if op["requestBody"] != nil {
				addMissing(responses, withBody)
			}
			if params, _ := op["parameters"].([]any); len(params) > 0 || len(pathParams) > 0 {
				addMissing(responses, withParams)
			}
		}
	}
}

func addMissing(responses, add map[string]any) {
	for status, answer := range add {
		if _, listed := responses[status]; !listed {
			responses[status] = answer
		}
	}
}
