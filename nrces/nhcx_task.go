package nrces

import (
	"context"
	"fmt"
	"strconv"
	"time"

	c4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	commpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/communication_go_proto"
	taskpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/task_go_proto"
)

// TaskBundles the provider sends (profiles/TaskBundle.fsh, Task.fsh): the
// answer to a payer's communication request and the acknowledgement of a
// payment notice, shaped as the IG examples
// Bundle-TaskBundleForCommunicationResponse-example-01 and
// Bundle-TaskBundleForPaymentNoticeResponse-example-01. The payer's own
// resources (its CommunicationRequest, PaymentNotice, the claim) are named
// by identifier, since they are the payer's and not re-sent.

// taskCoding is a Task code or input type with its display.
func taskCoding(table map[string]map[string]string, system, code string) Coding {
	return Coding{system, code, table[system][code]}
}

// CommunicationResponse builds the TaskBundle that answers a payer's
// communication request: a completed Task of code ndhm-task-codes#deliver
// whose input (financialtaskinputtype#include) is a Communication carrying
// the message and the documents asked for.
//
// Missing or malformed input gives an error wrapping ErrInvalidDocument
// that names the field; a bundle that fails the gate a *RejectedError.
func (b *Builder) CommunicationResponse(ctx context.Context, reply *CommunicationReply) (*Built, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if reply == nil {
		return nil, fmt.Errorf("%w: %s: no reply", ErrInvalidDocument, kindTask.profile)
	}
	s := b.newNHCXState()
	bundleID, taskID, commID := s.newID(), s.newID(), s.newID()

	providerURL := s.provider("Provider", reply.Provider)
	insurerURL := s.insurer("Insurer", reply.Insurer)
	if reply.Patient != nil {
		s.patientURL = s.patient(*reply.Patient)
	}
	if reply.Request.Value == "" {
		s.fail("Request.Value is required: the identifier of the payer's CommunicationRequest being answered")
	}
	if reply.Message == "" && len(reply.Attachments) == 0 {
		s.fail("a reply needs a Message or at least one Attachment")
	}
	sent := orTime(reply.Sent, s.now)

	comm := &commpb.Communication{
		Id:         pID(commID),
		Meta:       pMeta("Communication"),
		Identifier: []*d4.Identifier{s.businessID("Identifier", reply.Identifier, commID)},
		Status:     &commpb.Communication_StatusCode{Value: c4.EventStatusCode_COMPLETED},
		Category: []*d4.CodeableConcept{{Coding: []*d4.Coding{
			pCoding(Coding{systemCommunicationCat, "notification", "Notification"}),
		}}},
		Subject:   pRef(s.patientURL),
		Sent:      pDateTime(sent, s.loc()),
		Recipient: []*d4.Reference{pRef(insurerURL)},
		Sender:    pRef(providerURL),
	}
	if ref := s.logicalRef("Request", "CommunicationRequest", reply.Request); ref != nil {
		comm.BasedOn = []*d4.Reference{ref}
	}
	if ref := s.logicalRef("Claim", "Claim", reply.Claim); ref != nil {
		comm.About = []*d4.Reference{ref}
	}
	if reply.Message != "" {
		comm.Payload = append(comm.Payload, &commpb.Communication_Payload{Content: &commpb.Communication_Payload_ContentX{
			Choice: &commpb.Communication_Payload_ContentX_StringValue{StringValue: pStr(reply.Message)},
		}})
	}
	for i, f := range reply.Attachments {
		s.requireFile("Attachments["+strconv.Itoa(i)+"]", f)
		comm.Payload = append(comm.Payload, &commpb.Communication_Payload{Content: &commpb.Communication_Payload_ContentX{
			Choice: &commpb.Communication_Payload_ContentX_Attachment{Attachment: pAttachment(f, s.loc())},
		}})
	}
	commURL := s.add(commID, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Communication{Communication: comm}})

	task := s.task(taskID, sent, providerURL, insurerURL, taskCoding(taskCodes, SystemTaskCode, "deliver"))
	task.Input = []*taskpb.Task_Parameter{{
		Type: s.codedConcept("Task.input.type", taskCoding(taskInputTypes, SystemFinancialTaskInputType, "include")),
		Value: &taskpb.Task_Parameter_ValueX{
			Choice: &taskpb.Task_Parameter_ValueX_Reference{Reference: pRef(commURL)},
		},
	}}
	task.Description = pStr("Response to communication request " + reply.Request.Value)
	return b.finishTask(ctx, s, bundleID, taskID, task)
}

// PaymentAcknowledgement builds the TaskBundle that acknowledges a payer's
// payment notice: a completed Task of code financialtaskcode#status whose
// output (financialtaskinputtype#status) is
// ndhm-task-output-value#paymentack, focused on the PaymentNotice.
//
// Missing or malformed input gives an error wrapping ErrInvalidDocument
// that names the field; a bundle that fails the gate a *RejectedError.
func (b *Builder) PaymentAcknowledgement(ctx context.Context, ack *PaymentAck) (*Built, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ack == nil {
		return nil, fmt.Errorf("%w: %s: no acknowledgement", ErrInvalidDocument, kindTask.profile)
	}
	s := b.newNHCXState()
	bundleID, taskID := s.newID(), s.newID()

	providerURL := s.provider("Provider", ack.Provider)
	insurerURL := s.insurer("Insurer", ack.Insurer)
	if ack.PaymentNotice.Value == "" {
		s.fail("PaymentNotice.Value is required: the identifier of the payer's PaymentNotice")
	}
	task := s.task(taskID, orTime(ack.Authored, s.now), providerURL, insurerURL, taskCoding(taskCodes, SystemFinancialTaskCode, "status"))
	task.Identifier = []*d4.Identifier{s.businessID("Identifier", ack.Identifier, taskID)}
	task.Focus = s.logicalRef("PaymentNotice", "PaymentNotice", ack.PaymentNotice)
	if ref := s.logicalRef("Claim", "Claim", ack.Claim); ref != nil {
		task.BasedOn = []*d4.Reference{ref}
	}
	task.Description = pStr(orDefault(ack.Description, "Payment acknowledged"))
	task.Output = []*taskpb.Task_Output{{
		Type: s.codedConcept("Task.output.type", taskCoding(taskInputTypes, SystemFinancialTaskInputType, "status")),
		Value: &taskpb.Task_Output_ValueX{Choice: &taskpb.Task_Output_ValueX_CodeableConcept{
			CodeableConcept: s.codedConcept("Task.output.value", Coding{SystemTaskOutputValue, "paymentack", taskOutputValues["paymentack"]}),
		}},
	}}
	return b.finishTask(ctx, s, bundleID, taskID, task)
}

// task is a completed order Task from the provider to the payer.
func (s *nhcxState) task(id string, authored time.Time, requesterURL, ownerURL string, code Coding) *taskpb.Task {
	intent, err := enumCode[*taskpb.Task_IntentCode]("order")
	if err != nil {
		s.fail("Task.intent: %w", err)
	}
	return &taskpb.Task{
		Id:         pID(id),
		Meta:       pMeta("Task"),
		Status:     &taskpb.Task_StatusCode{Value: c4.TaskStatusCode_COMPLETED},
		Intent:     intent,
		Code:       s.codedConcept("Task.code", code),
		AuthoredOn: pDateTime(authored, s.loc()),
		Requester:  pRef(requesterURL),
		Owner:      pRef(ownerURL),
	}
}

func (b *Builder) finishTask(ctx context.Context, s *nhcxState, bundleID, taskID string, task *taskpb.Task) (*Built, error) {
	bundle := s.bundle(bundleID, kindTask.profile, focalEntry(taskID, &bcrpb.ContainedResource{
		OneofResource: &bcrpb.ContainedResource_Task{Task: task},
	}))
	return b.finishNHCX(ctx, kindTask, s, bundle)
}
