package sls

// IBKeyStore keeps the tables of the ibkey feature. Its methods are declared here
// as the feature grows; package sqlstore implements them on both engines
// and package storetest checks them.
type IBKeyStore interface{}
