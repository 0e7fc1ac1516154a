package sls

// PolicyStore keeps the tables of the policy feature. Its methods are declared here
// as the feature grows; package sqlstore implements them on both engines
// and package storetest checks them.
type PolicyStore interface{}
