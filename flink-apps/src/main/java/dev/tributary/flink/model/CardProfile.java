package dev.tributary.flink.model;

import java.io.Serializable;

/** A row of the card profile reference table that enrichment joins on {@code cardId}. */
public record CardProfile(String cardId, String segment, String homeCountry, String riskTier) implements Serializable {}
