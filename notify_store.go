package sls

// NotifyStore keeps the tables of the notify feature. Its methods are declared here
// as the feature grows; package sqlstore implements them on both engines
// and package storetest checks them.
type NotifyStore interface{}
